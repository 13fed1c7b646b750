"""The commands of `voiceassist`, one module for each kind: cli.py parses
the arguments and calls `cmd_<name>(args)`, which returns the exit status.

common.py: what every command shares (the settings, rules and prompts from
the arguments; the errors a user can meet; the exit statuses).
"""

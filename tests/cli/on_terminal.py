#!/usr/bin/python3
"""Runs a command on a pseudo-terminal and answers its prompts.

    on_terminal.py ANSWER... -- COMMAND [ARG]...

Each ANSWER is typed (with Enter) only after the command printed a new
prompt ending in ": ", as a person would; typing ahead would be echoed by
the terminal before the command could turn echo off. Writes everything the
terminal showed to stdout and exits with the command's status.
"""
import os
import pty
import select
import sys
import time


def main():
    split = sys.argv.index("--")
    answers, command = sys.argv[1:split], sys.argv[split + 1:]
    pid, fd = pty.fork()
    if pid == 0:
        os.execvp(command[0], command)
    shown = b""
    answered = 0
    deadline = time.monotonic() + 30
    while True:
        ready, _, _ = select.select([fd], [], [], max(0, deadline - time.monotonic()))
        if not ready:
            os.kill(pid, 9)
            sys.stdout.write(shown.decode(errors="replace") + "\n[timed out]\n")
            sys.exit(124)
        try:
            chunk = os.read(fd, 4096)
        except OSError:  # EIO: the command closed the terminal
            chunk = b""
        if not chunk:
            break
        shown += chunk
        if answered < len(answers) and shown.rstrip(b"\r\n").endswith(b": ") \
                and shown.count(b": ") > answered:
            os.write(fd, answers[answered].encode() + b"\r")
            answered += 1
    _, status = os.waitpid(pid, 0)
    sys.stdout.write(shown.decode(errors="replace"))
    sys.exit(os.waitstatus_to_exitcode(status))


main()

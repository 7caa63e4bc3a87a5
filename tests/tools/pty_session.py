"""Runs a command on a pseudo-terminal and answers its prompts, as a person
at a terminal would: used by the end-to-end tests to drive interactive
prompts (passphrases, consent), not only flags.

    python3 pty_session.py SCRIPT.json -- COMMAND [ARGS...]

SCRIPT.json is a list of [expected_substring, answer] pairs, taken in order:
when the expected text has appeared on the terminal, the answer and a
newline are typed. Prints everything the program wrote, then exits with the
program's exit status (or 124 if an expected prompt never came).
"""
import json
import os
import pty
import select
import sys
import termios
import time


def wait_for_echo_off(fd, budget=1.0):
    """A program prints its prompt and only then turns echo off to read a
    secret: typing in between would be echoed, as with a person who types
    faster than the program. Wait (briefly) for echo to go off; a prompt that
    keeps echo on (a yes/no question) just costs the budget."""
    until = time.time() + budget
    while time.time() < until:
        try:
            if not termios.tcgetattr(fd)[3] & termios.ECHO:
                return
        except termios.error:
            return
        time.sleep(0.01)


def main():
    script = json.load(open(sys.argv[1], encoding="utf-8"))
    cmd = sys.argv[sys.argv.index("--") + 1:]
    pid, fd = pty.fork()
    if pid == 0:
        os.execvp(cmd[0], cmd)
    seen = b""
    step = 0
    # Generous: on a loaded 2-core CI machine each wallet unlock (a
    # memory-hard KDF) takes seconds, and tests run side by side.
    deadline = time.time() + 240
    while True:
        if time.time() > deadline:
            sys.stdout.write(seen.decode("utf-8", "replace"))
            os.kill(pid, 9)
            sys.exit(124)
        ready, _, _ = select.select([fd], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                chunk = b""
            if not chunk:
                break
            seen += chunk
        while step < len(script) and script[step][0].encode() in seen:
            wait_for_echo_off(fd)
            os.write(fd, script[step][1].encode() + b"\n")
            seen = seen.replace(script[step][0].encode(), b"<answered>", 1)
            step += 1
    _, status = os.waitpid(pid, 0)
    sys.stdout.write(seen.decode("utf-8", "replace"))
    if step < len(script):
        sys.exit(124)
    sys.exit(os.waitstatus_to_exitcode(status))


if __name__ == "__main__":
    main()

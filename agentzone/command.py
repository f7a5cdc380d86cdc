"""What every `agentzone` subcommand package shares: exit codes for mistakes, and running on its own.

0 success; 1 something refused (the store, AWS); 2 the input is wrong
(config, arguments, credentials, region, usage). A user or AWS mistake is
one clear line on stderr, never a traceback.
"""

from __future__ import annotations

import argparse
import functools
import sys
from collections.abc import Callable

import boto3
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    NoCredentialsError,
    NoRegionError,
    PartialCredentialsError,
    ProfileNotFound,
)

from .config import ConfigError


def aws_session(profile: str | None) -> boto3.Session:
    """The session a subcommand's --profile names (the default chain without one)."""
    return boto3.Session(profile_name=profile) if profile else boto3.Session()


def aws_error(exc: ClientError) -> tuple[str, str]:
    """(code, message) of an AWS error response."""
    error = exc.response.get("Error", {})
    return error.get("Code", "Error"), error.get("Message", str(exc))


def aws_failure(exc: ClientError) -> tuple[str, int]:
    """The default reading of an AWS refusal: its operation, code and message; exit 1."""
    code, message = aws_error(exc)
    return f"{exc.operation_name} failed: {code}: {message}", 1


def guarded(
    prog: str,
    *,
    bad_input: tuple[type[Exception], ...],
    refused: tuple[type[Exception], ...],
    credentials_hint: str,
    region_hint: str | None = None,
    aws_message: Callable[[ClientError], tuple[str, int]] = aws_failure,
):
    """Decorator for a subcommand: each mistake becomes a message on stderr and its exit code.

    ``bad_input`` exceptions exit 2, ``refused`` ones exit 1; ``aws_message``
    turns an AWS error into (message, exit code); without ``region_hint`` a
    missing region reports botocore's own message.
    """

    def fail(message: str) -> None:
        print(f"{prog}: {message}", file=sys.stderr)

    def decorate(command):
        @functools.wraps(command)
        def run(args) -> int:
            try:
                return command(args)
            except ConfigError as exc:
                print(exc.render(), file=sys.stderr)
                return 2
            except bad_input as exc:
                fail(str(exc))
                return 2
            except refused as exc:
                fail(str(exc))
                return 1
            except (NoCredentialsError, PartialCredentialsError):
                fail(f"no AWS credentials found; {credentials_hint}")
                return 2
            except NoRegionError as exc:
                fail(region_hint or str(exc))
                return 2
            except ProfileNotFound as exc:
                fail(str(exc))
                return 2
            except ClientError as exc:
                message, code = aws_message(exc)
                fail(message)
                return code
            except BotoCoreError as exc:
                fail(f"AWS call failed: {exc}")
                return 1

        return run

    return decorate


def run_alone(name: str, add_parser: Callable, argv: list[str] | None) -> int:
    """`agentzone <name> ...` without the main command: argv without the leading name."""
    parser = argparse.ArgumentParser(prog="agentzone")
    add_parser(parser.add_subparsers(dest="command", required=True))
    try:
        args = parser.parse_args([name, *(sys.argv[1:] if argv is None else argv)])
    except SystemExit as exc:  # argparse: usage errors exit 2, --help exits 0
        return exc.code if isinstance(exc.code, int) else 2
    return args.func(args)

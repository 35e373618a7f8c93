import sys

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DataError


class _OneLineParser(CommandParser):
    def error(self, message):
        if not self.called_from_command_line:
            raise CommandError(f"Error: {message}", returncode=2)
        sys.stderr.write(f"{self.prog}: error: {message}\n")
        sys.exit(2)


class LookoutCommand(BaseCommand):
    """A command whose bad arguments get one line on stderr and exit status 2."""

    def execute(self, *args, **options):
        try:
            return super().execute(*args, **options)
        except DataError as exc:
            # A value the database refused came from the arguments (the command checks
            # what it knows to check): a bad argument, not a crash with a traceback.
            reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            raise self.bad_argument(f"the database cannot store a value given: {reason}") from exc

    def create_parser(self, prog_name, subcommand, **kwargs):
        parser = super().create_parser(prog_name, subcommand, **kwargs)
        parser.__class__ = _OneLineParser  # Django builds a plain CommandParser itself
        return parser

    @staticmethod
    def bad_argument(message: str) -> CommandError:
        return CommandError(message, returncode=2)

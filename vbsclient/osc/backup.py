"""openstack vbs backup delete | list | show."""

import argparse
import collections
import contextlib
import itertools
import logging
import signal
import sys
import threading

from osc_lib.command import command
from osc_lib import exceptions
from osc_lib import utils

# Command modules load only when OSC lists or runs commands, after it has
# imported keystoneauth and requests itself.
from vbsclient.api import client as api_client
from vbsclient.api import deletion
from vbsclient.api import errors
from vbsclient.api import ids
from vbsclient.api import retry
from vbsclient.osc import progress

LOG = logging.getLogger(__name__)
EXIT_INTERRUPTED = 130


class NetworkOptions:
    """--retries, --connect-timeout and --read-timeout, for every command."""

    def add_network_options(self, parser):
        group = parser.add_argument_group('network options')
        group.add_argument(
            '--retries', metavar='<n>', type=_at_least(0, int),
            default=retry.DEFAULT_RETRIES,
            help='Retries of one request after a connection failure, 502, '
                 '503, 504, or throttling (413/429, waiting as Retry-After '
                 'says, at most %ds) (default: %d)'
                 % (retry.MAX_RETRY_AFTER, retry.DEFAULT_RETRIES))
        group.add_argument(
            '--connect-timeout', metavar='<seconds>', type=_positive(float),
            default=api_client.DEFAULT_CONNECT_TIMEOUT,
            help='Seconds to wait for a connection (default: %g)'
                 % api_client.DEFAULT_CONNECT_TIMEOUT)
        group.add_argument(
            '--read-timeout', metavar='<seconds>', type=_positive(float),
            default=api_client.DEFAULT_READ_TIMEOUT,
            help='Seconds to wait for an answer (default: %g)'
                 % api_client.DEFAULT_READ_TIMEOUT)
        return parser

    def vbs_client(self, parsed_args):
        client = self.app.client_manager.vbs
        client.retries = parsed_args.retries
        client.connect_timeout = parsed_args.connect_timeout
        client.read_timeout = parsed_args.read_timeout
        return client


class DeleteBackup(NetworkOptions, command.Lister):
    """Delete VBS backup(s).

    Each argument is a backup ID (one DELETE request, no lookup) or a
    backup name (looked up first; it must match exactly one backup). "-"
    reads more of them from standard input, one per line ("#" comments and
    blank lines are skipped). Quiet on success; with -f, one row per
    backup. Exit status 1 if any backup failed.
    """

    COLUMNS = ('ID', 'Name', 'Result', 'Reason', 'Request ID')

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        # Quiet, like `openstack volume backup delete`, unless -f is given.
        parser.set_defaults(formatter=None)
        for action in parser._actions:
            if action.dest == 'formatter':
                action.help = ('print one row per backup in this format '
                               '(default: none, quiet; table for --dry-run)')
        parser.add_argument(
            'backups', metavar='<backup>', nargs='+',
            help='Backup(s) to delete (name or ID; "-" for standard input)')
        parser.add_argument(
            '--force', action='store_true',
            help='Delete the backup(s) whatever their status, through the '
                 'os-force_delete action (admin only by default)')
        parser.add_argument(
            '--wait', action='store_true',
            help='Wait until every deleted backup is gone')
        parser.add_argument(
            '--timeout', metavar='<seconds>', type=_positive(float),
            default=deletion.DEFAULT_TIMEOUT,
            help='With --wait, how long to wait in all (default: %d)'
                 % deletion.DEFAULT_TIMEOUT)
        parser.add_argument(
            '--parallel', metavar='<n>', type=_positive(int),
            default=deletion.DEFAULT_PARALLEL,
            help='Requests in flight at once; 1 is strictly sequential '
                 '(default: %d)' % deletion.DEFAULT_PARALLEL)
        parser.add_argument(
            '--ignore-missing', action='store_true',
            help='A backup that does not exist (checked: really gone) counts '
                 'as done ("already-missing"); no other failure does')
        parser.add_argument(
            '--dry-run', action='store_true',
            help='Resolve every backup and show what would be deleted; send '
                 'no DELETE')
        return self.add_network_options(parser)

    def run(self, parsed_args):
        self._results = collections.Counter()  # result -> backups
        self._bulk = None
        if parsed_args.dry_run and parsed_args.formatter is None:
            parsed_args.formatter = 'table'  # a dry run exists to be read
        if parsed_args.formatter is None:
            for outcome in self._outcomes(parsed_args):
                if outcome.result == deletion.NOT_ATTEMPTED:
                    LOG.error("Not attempted (interrupted): '%s'",
                              outcome.argument)
                elif outcome.failed:
                    LOG.error("Failed to delete backup '%s': %s",
                              outcome.argument, outcome.reason)
        else:
            super().run(parsed_args)
        total = sum(self._results.values())
        if self._bulk is not None and self._bulk.interrupted:
            LOG.error('Interrupted: of %d backups, %s.', total, ', '.join(
                '%d %s' % (self._results[result], result)
                for result in (deletion.DELETED, deletion.GONE,
                               deletion.ALREADY_MISSING, deletion.FAILED,
                               deletion.NOT_ATTEMPTED)))
            return EXIT_INTERRUPTED
        failed = self._results[deletion.FAILED]
        if failed:
            raise exceptions.CommandError('%d of %d backups %s.' % (
                failed, total, 'failed the dry run' if parsed_args.dry_run
                else 'failed to delete'))
        return 0

    def take_action(self, parsed_args):
        rows = ((o.backup_id, o.name, o.result, o.reason, o.request_id)
                for o in self._outcomes(parsed_args))
        return self.COLUMNS, rows

    def _outcomes(self, parsed_args):
        """Run the deletion; yield outcomes as they come, counting them."""
        try:
            for argument in parsed_args.backups:
                if argument != '-':
                    ids.check_name_or_id(argument)
        except errors.InvalidBackupId as exc:
            raise exceptions.CommandError(str(exc))
        bulk = self._bulk = deletion.BulkDelete(
            self.vbs_client(parsed_args), force=parsed_args.force,
            ignore_missing=parsed_args.ignore_missing,
            dry_run=parsed_args.dry_run, parallel=parsed_args.parallel,
            progress=progress.Progress())
        try:
            with _first_interrupt_stops(bulk):
                for outcome in bulk.run(_arguments(parsed_args.backups),
                                        wait=parsed_args.wait,
                                        timeout=parsed_args.timeout):
                    self._results[outcome.result] += 1
                    yield outcome
        finally:
            bulk.progress.close()


class ListBackup(NetworkOptions, command.Lister):
    """List VBS backups (all pages)."""

    COLUMNS = ('ID', 'Name', 'Status', 'Size', 'Volume ID')
    LONG_COLUMNS = COLUMNS + ('Incremental', 'Availability Zone',
                              'Container', 'Description', 'Created At')

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument('--name', metavar='<name>',
                            help='Only backups with this exact name')
        parser.add_argument('--status', metavar='<status>',
                            help='Only backups in this status (available, '
                                 'error, creating, deleting, ...)')
        parser.add_argument('--volume', metavar='<volume-id>',
                            help='Only backups of this volume (ID)')
        parser.add_argument('--long', action='store_true',
                            help='Show more columns')
        parser.add_argument('--limit', metavar='<n>', type=_positive(int),
                            help='Show at most this many backups')
        parser.add_argument('--marker', metavar='<backup-id>',
                            help='Start after this backup (ID)')
        return self.add_network_options(parser)

    def take_action(self, parsed_args):
        client = self.vbs_client(parsed_args)
        columns = self.LONG_COLUMNS if parsed_args.long else self.COLUMNS
        backups = client.list(
            detailed=True, name=parsed_args.name, status=parsed_args.status,
            volume_id=parsed_args.volume, marker=parsed_args.marker,
            # The page size: the server may cap it; pages are followed.
            limit=parsed_args.limit)
        if parsed_args.limit:
            backups = itertools.islice(backups, parsed_args.limit)
        return columns, (utils.get_dict_properties(b, columns)
                         for b in backups)


class ShowBackup(NetworkOptions, command.ShowOne):
    """Show one VBS backup's details."""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument('backup', metavar='<backup>',
                            help='Backup to show (name or ID)')
        return self.add_network_options(parser)

    def take_action(self, parsed_args):
        client = self.vbs_client(parsed_args)
        backup_id, _ = client.find(parsed_args.backup)
        backup = client.get(backup_id)
        backup.pop('links', None)
        return tuple(zip(*sorted(backup.items()))) or ((), ())


def _arguments(backups):
    """The backups named, with "-" replaced by standard input's lines."""
    for argument in backups:
        if argument == '-':
            yield from _lines(sys.stdin)
        else:
            yield argument


def _lines(stream):
    for line in stream:  # read as consumed: never the whole input at once
        line = line.strip()
        if line and not line.startswith('#'):
            yield line


@contextlib.contextmanager
def _first_interrupt_stops(bulk):
    """The first Ctrl-C stops sending and lets the run report; a second
    one aborts at once (Python's default KeyboardInterrupt)."""
    if threading.current_thread() is not threading.main_thread():
        yield  # signal handlers can only be set from the main thread
        return

    def stop(signum, frame):
        signal.signal(signal.SIGINT, previous)
        sys.stderr.write('\nInterrupted: finishing the requests in flight '
                         '(Ctrl-C again to abort)\n')
        bulk.stop()

    previous = signal.signal(signal.SIGINT, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _positive(kind):
    return _at_least(None, kind)


def _at_least(minimum, kind):
    """An argparse type: a number of `kind`, >= minimum (None: > 0)."""
    def parse(text):
        try:
            value = kind(text)
        except ValueError:
            value = None
        if value is None or (value <= 0 if minimum is None
                             else value < minimum):
            raise argparse.ArgumentTypeError('%r is not a %s' % (
                text, 'number of at least %d' % minimum
                if minimum is not None else 'positive number'))
        return value
    return parse

#    Licensed under the Apache License, Version 2.0 (the "License"); you may
#    not use this file except in compliance with the License. You may obtain
#    a copy of the License at
#
#         http://www.apache.org/licenses/LICENSE-2.0
#
#    Unless required by applicable law or agreed to in writing, software
#    distributed under the License is distributed on an "AS IS" BASIS, WITHOUT
#    WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied. See the
#    License for the specific language governing permissions and limitations
#    under the License.

"""openstack vbs backup delete | list | show."""

import argparse
import codecs
import contextlib
import itertools
import logging
import math
import os
import signal
import sys
import threading
import time

from osc_lib.command import command
from osc_lib import exceptions

# Command modules load only when OSC lists or runs commands, after it has
# imported keystoneauth and requests itself.
from vbsclient.api import client as api_client
from vbsclient.api import deletion
from vbsclient.api import errors
from vbsclient.api import ids
from vbsclient.api import limiter
from vbsclient.api.outcome import Result
from vbsclient.api import pipeline as api_pipeline
from vbsclient.api import retry
from vbsclient.api import text as safe_text
from vbsclient.osc import hints
from vbsclient.osc import progress

LOG = logging.getLogger(__name__)
# Signals that end a run as Ctrl-C does: stop sending, account for every
# backup, report; the exit status is 128 + the signal's number (130, 143,
# 129), as a shell reports a process the signal ended.
# A repeat of the first signal this soon is a duplicate delivery.
SAME_SIGNAL_WINDOW = 1.0
STOP_SIGNALS = tuple(getattr(signal, name) for name in
                     ('SIGINT', 'SIGTERM', 'SIGHUP') if hasattr(signal, name))


class VbsCommand:
    """What every vbs command has: the network options, a client of its
    own settings, one-line errors, and output that is safe on a terminal.
    """

    # Formats that show values exactly; the others are read line by line,
    # on a terminal or by a script, and get control characters escaped.
    EXACT_FORMATS = ('json', 'yaml')

    def quiet_without_format(self, parser, quiet):
        """Print rows only when asked (-f or -c), like `openstack volume
        backup delete`; `quiet` says what is printed otherwise.
        """
        parser.set_defaults(formatter=None)
        for action in parser._actions:
            if '-f' in action.option_strings:
                action.help = ('the output format (with -c alone: table); '
                               'without -f or -c, %s' % quiet)
        return parser

    def chosen_format(self, parsed_args):
        """The output format, or None for quiet: -c alone means a table,
        as on any openstack command; a dry run is printed to be read.
        """
        if parsed_args.formatter is None and (
                parsed_args.columns or parsed_args.dry_run):
            parsed_args.formatter = 'table'
        return parsed_args.formatter

    def add_run_options(self, parser, dry_run, timeout):
        """The options of a run that deletes (delete, prune), declared
        once: dry_run and timeout are their help.
        """
        parser.add_argument('--dry-run', action='store_true', help=dry_run)
        parser.add_argument(
            '--wait', action='store_true',
            help='Wait until every deleted backup is gone')
        parser.add_argument(
            '--timeout', metavar='<seconds>', type=_positive(float),
            default=deletion.DEFAULT_TIMEOUT,
            help='%s (default: %d)' % (timeout, deletion.DEFAULT_TIMEOUT))
        parser.add_argument(
            '--parallel', metavar='<n>', type=_positive(int),
            help='Requests in flight at once, fixed; 1 is strictly '
                 'sequential (default: adapted to the server, between 1 '
                 'and %d: the fewest that give the best rate of answers '
                 'measured, fewer when the server throttles; --debug '
                 'shows each change)' % limiter.DEFAULT_MAX)
        return self.add_network_options(parser)

    def exit_status(self, summary, interrupted, failed, done=None):
        """The one rule of a run's exit status, from its Summary: after a
        signal, 128 + its number (the `interrupted` line said); 1 when any
        backup failed or was never sent (`failed`, the command's error);
        else 0 (the `done` line said, as a warning, if given).
        """
        if summary.interrupted:
            self._say(interrupted)
            return 128 + (self._signal or signal.SIGINT)
        if summary.failures:
            raise exceptions.CommandError(failed)
        if done:
            LOG.warning('%s', done)
        return 0

    def _say(self, line):
        LOG.error('%s', line)

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
            help='Seconds to wait for a connection (default: %g)'
                 % api_client.DEFAULT_CONNECT_TIMEOUT)
        group.add_argument(
            '--read-timeout', metavar='<seconds>', type=_positive(float),
            help='Seconds to wait for a whole answer once connected '
                 '(default: clouds.yaml\'s api_timeout, else %g). Each '
                 'backup gets %d times connect and read timeout in all, '
                 'retries included'
                 % (api_client.DEFAULT_READ_TIMEOUT,
                    api_client.BUDGET_IN_ATTEMPTS))
        return parser

    def vbs_client(self, parsed_args):
        """The cloud's client with this command's settings, bound to the
        command's one pipeline: a copy, so that nothing of this command
        stays behind for the next one (OSC's interactive shell runs many
        on one client).
        """
        return self.app.client_manager.vbs.configured(
            retries=parsed_args.retries,
            connect_timeout=parsed_args.connect_timeout,
            read_timeout=parsed_args.read_timeout).bound(
                pipeline=self.pipeline)

    def run(self, parsed_args):
        """The command as one run: every request it makes (lists, shows,
        lookups, deletes) goes through one pipeline, whose stop the
        signals set from the first moment on.
        """
        self.pipeline = api_pipeline.Pipeline(_limiter(parsed_args))
        self.progress = None  # a command's progress line, if it has one
        try:
            with self._signals_stop():
                return self.run_command(parsed_args)
        except errors.Interrupted:
            # A stop met a list, a show or a lookup.
            self._say('Interrupted: nothing more was sent.')
            return 128 + (self._signal or signal.SIGINT)
        except errors.VbsError as exc:
            # An error that ends a whole command comes from a list, a show
            # or a lookup, never from a DELETE: --force would not help.
            raise exceptions.CommandError(safe_text.escape(
                hints.with_hint(str(exc), exc)))

    def run_command(self, parsed_args):
        return super().run(parsed_args)

    @contextlib.contextmanager
    def _signals_stop(self):
        """The first SIGINT, SIGTERM or SIGHUP stops sending and lets the
        run report; a second one ends the process at once.

        The same signal again within SAME_SIGNAL_WINDOW seconds is the
        same stop delivered twice, not a second one: GNU timeout, and
        `kill` of a process group, send it to the process and its group.
        """
        self._signal = self._signalled_at = None
        if threading.current_thread() is not threading.main_thread():
            yield  # signal handlers can only be set from the main thread
            return

        def stop(signum, frame):
            name = signal.Signals(signum).name
            if self._signal is not None:
                if signum == self._signal and time.monotonic() \
                        - self._signalled_at < SAME_SIGNAL_WINDOW:
                    return
                sys.stderr.write('\n%s again: aborting now\n' % name)
                sys.stderr.flush()
                os._exit(128 + self._signal)
            self._signal = signum
            self._signalled_at = time.monotonic()
            if self.progress is not None:
                self.progress.clear()
            # A repeat within SAME_SIGNAL_WINDOW is ignored: say so.
            sys.stderr.write('\n%s: sending nothing more, finishing the '
                             'requests in flight (%s again after a second '
                             'to abort)\n'
                             % ('Interrupted' if signum == signal.SIGINT
                                else name, 'Ctrl-C' if signum ==
                                signal.SIGINT else name))
            # In a thread: the stop takes locks this thread may hold.
            threading.Thread(target=self.pipeline.stop, daemon=True).start()

        previous = {signum: signal.signal(signum, stop)
                    for signum in STOP_SIGNALS}
        try:
            yield
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)

    def produce_output(self, parsed_args, column_names, data):
        if parsed_args.formatter not in self.EXACT_FORMATS:
            if isinstance(self, command.Lister):
                data = (_escaped(row) for row in data)
            else:
                data = _escaped(data)
        return super().produce_output(parsed_args, column_names, data)


class DeleteBackup(VbsCommand, command.Lister):
    """Delete VBS backup(s).

    Each argument is a backup ID (one DELETE request, no lookup) or a
    backup name (looked up first; it must match exactly one backup). "-"
    reads more of them from standard input, one per line ("#" comments and
    blank lines are skipped). Backups of an incremental chain may be named
    in any order: each is deleted once the backups that depend on it are
    gone. Quiet on success (neither -f nor -c: no output); with -f or -c,
    one row per backup (a dry run: a table). Exit status 1 if any backup
    failed.
    """

    COLUMNS = ('ID', 'Name', 'Result', 'Reason', 'Request ID')

    def get_parser(self, prog_name):
        parser = self.quiet_without_format(
            super().get_parser(prog_name),
            'only failures are printed, on stderr (a dry run: a table)')
        parser.add_argument(
            'backups', metavar='<backup>', nargs='+', type=_backup_argument,
            help='Backup(s) to delete (name or ID; "-" for standard input)')
        parser.add_argument(
            '--force', action='store_true',
            help='Delete the backup(s) whatever their status, through the '
                 'os-force_delete action (admin only by default)')
        parser.add_argument(
            '--ignore-missing', action='store_true',
            help='A backup that does not exist (checked: really gone) counts '
                 'as done ("already-missing"); no other failure does')
        return self.add_run_options(
            parser, dry_run='Resolve every backup and show what would be '
                            'deleted; send no DELETE',
            timeout='How long to wait in all: with --wait, and for the '
                    'incremental backups a named backup must outlive')

    def run_command(self, parsed_args):
        self._bulk = None
        if self.chosen_format(parsed_args) is None:
            for outcome in self._outcomes(parsed_args):
                if outcome.failed:
                    self._report(outcome, parsed_args)
        else:
            super().run_command(parsed_args)
        return self._exit_status(parsed_args)

    def take_action(self, parsed_args):
        return self.COLUMNS, (self._row(o, parsed_args)
                              for o in self._outcomes(parsed_args))

    def _exit_status(self, parsed_args):
        summary = self._bulk.summary()
        return self.exit_status(
            summary, 'Interrupted: of %d backups, %s.'
            % (summary.total, summary.line()),
            '%d of %d backups %s.' % (
                summary.failures, summary.total, 'failed the dry run'
                if parsed_args.dry_run else 'failed to delete'))

    def _row(self, outcome, parsed_args):
        self._bulk.progress.clear()  # a row never follows a progress line
        return (outcome.backup_id, outcome.name, outcome.result.value,
                self._reason(outcome, parsed_args), outcome.request_id)

    def _reason(self, outcome, parsed_args):
        return hints.reason(outcome, force=parsed_args.force)

    def _report(self, outcome, parsed_args):
        name = safe_text.quoted(outcome.argument)
        if outcome.result is Result.NOT_ATTEMPTED:
            self._say('Not attempted (interrupted): %s' % name)
        else:
            self._say('Failed to delete backup %s: %s' % (
                name, safe_text.escape(self._reason(outcome, parsed_args))))

    def _say(self, line):
        if self._bulk is not None:
            self._bulk.progress.clear()
        LOG.error('%s', line)

    def _outcomes(self, parsed_args):
        """Run the deletion; yield outcomes as they come, counting them."""
        self._check_arguments(parsed_args.backups)
        client = self.vbs_client(parsed_args)
        # A setting that cannot work is one error, before any backup.
        client.check_endpoint()
        self.progress = progress.Progress()
        bulk = self._bulk = deletion.BulkDelete(
            client, force=parsed_args.force,
            ignore_missing=parsed_args.ignore_missing,
            dry_run=parsed_args.dry_run, parallel=parsed_args.parallel,
            progress=self.progress)
        try:
            yield from bulk.run(_arguments(parsed_args.backups),
                                wait=parsed_args.wait,
                                timeout=parsed_args.timeout)
        finally:
            self.progress.close()

    def _check_arguments(self, backups):
        """Bad input on the command line is one error before any request
        (the arguments themselves are checked as they are parsed).
        """
        if '-' in backups and getattr(self.app, 'interactive_mode', False):
            # There, standard input holds the shell's next commands.
            raise exceptions.CommandError(
                '"-" (backups from standard input) cannot be used in the '
                'interactive shell, whose standard input is its commands: '
                'run the command on its own, e.g. "openstack vbs backup '
                'delete - < ids.txt".')


class ListBackup(VbsCommand, command.Lister):
    """List VBS backups (all pages)."""

    # Those of `openstack volume backup list`, and the record's key where
    # it is not the column's name in snake case.
    COLUMNS = ('ID', 'Name', 'Description', 'Status', 'Size', 'Incremental',
               'Created At')
    LONG_COLUMNS = COLUMNS + ('Availability Zone', 'Volume', 'Container')
    KEYS = {'Incremental': 'is_incremental', 'Volume': 'volume_id'}
    # A backup's statuses in the API (Cinder's, and error_restoring, which
    # `openstack volume backup list` offers too): another value would
    # match nothing and list nothing, with exit status 0.
    STATUSES = ('available', 'creating', 'deleting', 'error',
                'error_deleting', 'error_restoring', 'restoring')

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument(
            '--project', metavar='<project>', type=not_blank,
            help='Only backups of this project (name or ID) (admin only)')
        parser.add_argument('--long', action='store_true',
                            help='List additional fields in output')
        parser.add_argument('--name', metavar='<name>', type=not_blank,
                            help='Only backups with this exact name')
        parser.add_argument('--status', metavar='<status>',
                            choices=self.STATUSES,
                            help='Only backups in this status (%s)'
                                 % ', '.join(self.STATUSES))
        parser.add_argument(
            '--volume', metavar='<volume>', type=not_blank,
            help='Only backups of this volume (name or ID). An ID is used '
                 'as given, so the backups of a deleted volume are found; a '
                 'name must match one volume of the same endpoint, else it '
                 'is an error (not an empty list)')
        parser.add_argument(
            '--limit', metavar='<limit>', type=_positive(int),
            help='Backups per page, all pages followed (the server may cap '
                 'it); --max-items caps the total')
        parser.add_argument(
            '--marker', metavar='<marker>', type=not_blank,
            help='Start after this backup (name or ID)')
        parser.add_argument(
            '--max-items', metavar='<max-items>', type=_positive(int),
            help='List at most this many backups in all, following pages '
                 'as needed; --limit sets the page size')
        parser.add_argument(
            '--all-projects', action='store_true',
            help='Include all projects (admin only)')
        return self.add_network_options(parser)

    def take_action(self, parsed_args):
        client = self.vbs_client(parsed_args)
        page_size, total = self._paging(parsed_args)
        scope = self._scope(client, parsed_args)
        volume_id = marker = None
        if parsed_args.volume:
            volume_id = client.find_volume(parsed_args.volume, **scope)
        if parsed_args.marker:
            marker, _ = client.find(parsed_args.marker, **scope)
        backups = client.list(
            detailed=True, name=parsed_args.name, status=parsed_args.status,
            volume_id=volume_id, marker=marker, limit=page_size, **scope)
        if total:
            # Lazily: no page beyond the one that completes the total.
            backups = itertools.islice(backups, total)
        columns = self.LONG_COLUMNS if parsed_args.long else self.COLUMNS
        keys = [self.KEYS.get(c, c.lower().replace(' ', '_'))
                for c in columns]
        return columns, (tuple(b.get(k) for k in keys) for b in backups)

    @staticmethod
    def _paging(parsed_args):
        """(page size, total), as in `openstack volume backup list`."""
        limit, max_items = parsed_args.limit, parsed_args.max_items
        # As openstacksdk does, a total alone is also the page size: one
        # request when the server allows pages that large.
        return limit or max_items, max_items

    @staticmethod
    def _scope(client, parsed_args):
        """Cinder's all_tenants and project_id, as OSC sends them."""
        scope = {}
        if parsed_args.all_projects or parsed_args.project:
            scope['all_tenants'] = 1
        if parsed_args.project:
            scope['project_id'] = client.find_project(parsed_args.project)
        return scope


class ShowBackup(VbsCommand, command.ShowOne):
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


def _limiter(parsed_args):
    """Requests in flight: --parallel's, else adapted to the server, for a
    run that deletes; the pipeline's default bound for a list or a show.
    """
    if not hasattr(parsed_args, 'parallel'):
        return None
    if parsed_args.parallel:
        return limiter.FixedLimit(parsed_args.parallel)
    return limiter.AdaptiveLimit()


def _arguments(backups):
    """The backups named, with "-" replaced by standard input's lines.

    Nothing on standard input is no failure (a list that found nothing),
    but a pipeline whose list failed looks the same: say so on stderr.
    """
    for argument in backups:
        if argument != '-':
            yield argument
            continue
        read = 0
        for read, line in enumerate(
                _lines(getattr(sys.stdin, 'buffer', sys.stdin)), 1):
            yield line
        if not read:
            LOG.warning('no backups named on standard input')


def _lines(stream):
    """Standard input's backups: one a line, without blank lines and "#"
    comments, read as consumed (never the whole input at once).

    Read as bytes: a line that is not UTF-8 is kept, with its bytes as
    lone surrogates, to be that line's failure (see ids.check_name_or_id)
    rather than the end of the run. A byte order mark at the start goes.
    """
    first = True
    for line in stream:
        if isinstance(line, bytes):
            if first:
                line = line.removeprefix(codecs.BOM_UTF8)
            line = line.decode('utf-8', 'surrogateescape')
        elif first:
            line = line.removeprefix('\ufeff')
        first = False
        line = line.strip()
        if line and not line.startswith('#'):
            yield line


def _escaped(values):
    """Values for a line format: control characters escaped, and an empty
    field (None) empty rather than "None".
    """
    return tuple('' if v is None
                 else safe_text.escape(v) if isinstance(v, str) else v
                 for v in values)


def _backup_argument(text):
    """An argparse type: "-", or a backup name or ID that could name one."""
    if text != '-':
        try:
            ids.check_name_or_id(text)
        except errors.InvalidBackupId as exc:
            raise argparse.ArgumentTypeError(str(exc))
    return text


def not_blank(text):
    """An argparse type: a name or ID, never empty (an unset shell
    variable must not widen a filter to everything).
    """
    if not text.strip():
        raise argparse.ArgumentTypeError('must not be empty or blank')
    return text


_NOUNS = {int: 'an integer', float: 'a number'}
_POSITIVE = {int: 'a positive integer', float: 'a positive number'}


def _positive(kind):
    return _at_least(None, kind)


def _at_least(minimum, kind):
    """An argparse type: a number of `kind`, >= minimum (None: > 0)."""
    def parse(text):
        try:
            value = kind(text)
        except ValueError:
            value = None
        if value is None or not math.isfinite(value) \
                or (value <= 0 if minimum is None else value < minimum):
            raise argparse.ArgumentTypeError('%r is not %s' % (
                text, '%s of at least %d' % (_NOUNS[kind], minimum)
                if minimum is not None else _POSITIVE[kind]))
        return value
    return parse

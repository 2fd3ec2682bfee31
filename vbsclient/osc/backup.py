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
import itertools
import logging
import sys

from osc_lib.command import command
from osc_lib import exceptions

from vbsclient.api import deletion
from vbsclient.api import errors
from vbsclient.api import ids
from vbsclient.api.outcome import Result
from vbsclient.api import text as safe_text
from vbsclient.osc.base import not_blank
from vbsclient.osc.base import positive
from vbsclient.osc.base import VbsCommand
from vbsclient.osc import hints

LOG = logging.getLogger(__name__)


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
    PROGRESS = True

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
        # A row never follows a progress line.
        self.run_context.progress.clear()
        return (outcome.backup_id, outcome.name, outcome.result.value,
                self._reason(outcome, parsed_args), outcome.request_id)

    def _reason(self, outcome, parsed_args):
        return hints.reason(outcome, force=parsed_args.force)

    def _report(self, outcome, parsed_args):
        name = safe_text.quoted(outcome.argument)
        if outcome.result is Result.NOT_ATTEMPTED:
            self.say('Not attempted (interrupted): %s' % name)
        else:
            self.say('Failed to delete backup %s: %s' % (
                name, safe_text.escape(self._reason(outcome, parsed_args))))

    def _outcomes(self, parsed_args):
        """Run the deletion; yield outcomes as they come, counting them."""
        self._check_arguments(parsed_args.backups)
        # A setting that cannot work is one error, before any backup.
        self.run_context.client.check_endpoint()
        self._bulk = deletion.BulkDelete(
            self.run_context, force=parsed_args.force,
            ignore_missing=parsed_args.ignore_missing,
            dry_run=parsed_args.dry_run)
        named = parsed_args.backups
        yield from self._bulk.run(
            _arguments(named), wait=parsed_args.wait,
            expected=None if '-' in named else len(set(named)))

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
            '--limit', metavar='<limit>', type=positive(int),
            help='Backups per page, all pages followed (the server may cap '
                 'it); --max-items caps the total')
        parser.add_argument(
            '--marker', metavar='<marker>', type=not_blank,
            help='Start after this backup (name or ID)')
        parser.add_argument(
            '--max-items', metavar='<max-items>', type=positive(int),
            help='List at most this many backups in all, following pages '
                 'as needed; --limit sets the page size')
        parser.add_argument(
            '--all-projects', action='store_true',
            help='Include all projects (admin only)')
        return self.add_network_options(parser)

    def take_action(self, parsed_args):
        client = self.run_context.client
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
        client = self.run_context.client
        backup_id, _ = client.find(parsed_args.backup)
        backup = client.get(backup_id)
        backup.pop('links', None)
        return tuple(zip(*sorted(backup.items()))) or ((), ())


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


def _backup_argument(text):
    """An argparse type: "-", or a backup name or ID that could name one."""
    if text != '-':
        try:
            ids.check_name_or_id(text)
        except errors.InvalidBackupId as exc:
            raise argparse.ArgumentTypeError(str(exc))
    return text

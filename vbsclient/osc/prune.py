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

"""openstack vbs backup prune."""

import argparse
import collections
import logging

from osc_lib.command import command

from vbsclient.api import deletion
from vbsclient.api import errors
from vbsclient.api.outcome import Result
from vbsclient.api import pruning
from vbsclient.api import retention
from vbsclient.api import retention_rules
from vbsclient.api import text as safe_text
from vbsclient.osc import base
from vbsclient.osc import hints

LOG = logging.getLogger(__name__)


class PruneBackup(base.VbsCommand, command.Lister):
    """Delete the backups that no retention rule keeps.

    Each volume is pruned on its own (every volume of the project without
    --volume): a backup kept by any rule is kept (restic's rules: the N
    newest, the newest of each of the N most recent hours, days, ISO
    weeks, months or years that have a backup, every backup within a
    duration of the volume's newest); its newest available backup always;
    a backup the server reports incremental backups depend on, while one
    of them stays. Only available backups are deleted; the others are
    skipped. Quiet on success (neither -f nor -c: failures and the
    summary only); with -f or -c, one row per backup, newest first per
    volume (a dry run: a table). Exit status 1 if any planned deletion
    failed.
    """

    COLUMNS = ('ID', 'Name', 'Volume ID', 'Created At', 'Incremental',
               'Action', 'Reason', 'Result', 'Request ID')
    PROGRESS = True
    RULES = ('last', 'hourly', 'daily', 'weekly', 'monthly', 'yearly')

    def get_parser(self, prog_name):
        parser = self._parser = self.quiet_without_format(
            super().get_parser(prog_name), 'only failures and the summary '
            'are printed, on stderr (a dry run: a table)')
        parser.add_argument(
            '--volume', metavar='<volume>', action='append',
            type=base.not_blank,
            help='Prune the backups of this volume (name or ID; '
                 'repeatable; default: every volume of the project)')
        for rule in self.RULES:
            parser.add_argument(
                '--keep-' + rule, metavar='<n>', dest='keep_' + rule,
                type=_count,
                help='Keep the %s ("unlimited": no bound)' % (
                    'N newest backups' if rule == 'last' else
                    'newest backup of each of the N most recent %s that '
                    'have one, and the oldest backup while N is not '
                    'reached' % {'hourly': 'hours', 'daily': 'days',
                                 'weekly': 'ISO weeks',
                                 'monthly': 'months',
                                 'yearly': 'years'}[rule]))
        parser.add_argument(
            '--keep-within', metavar='<duration>', type=_duration,
            help='Keep every backup newer than the volume\'s newest (not in '
                 'the future) minus this (h, d, w, m for months, y; '
                 'combinable: 1y6m)')
        return self.add_run_options(
            parser, dry_run='Show the plan; send no DELETE',
            timeout='How long to wait in all: with --wait, and for the '
                    'incremental backups a planned backup must outlive')

    def run_command(self, parsed_args):
        rules = retention_rules.Rules(
            within=parsed_args.keep_within,
            **{rule: getattr(parsed_args, 'keep_' + rule)
               for rule in self.RULES})
        if not rules.any():
            # Nothing sent: without a rule, everything would go.
            self._parser.error('at least one rule is required: --keep-%s '
                               'or --keep-within'
                               % ', --keep-'.join(self.RULES))
        self._rules = rules
        if self.chosen_format(parsed_args) is None:
            self._done = self._rows(parsed_args)
            for row in self._done:
                if row.failed:
                    LOG.error('Failed to delete backup %s: %s',
                              row.record['id'],
                              safe_text.escape(_reason(row) or ''))
        else:
            super().run_command(parsed_args)
        return self._exit_status(self._done, parsed_args)

    def take_action(self, parsed_args):
        self._done = self._rows(parsed_args)
        return self.COLUMNS, [self._values(r) for r in self._done]

    def _rows(self, parsed_args):
        prune = self._prune = pruning.Prune(
            self.run_context, self._rules, dry_run=parsed_args.dry_run)
        self._listed = False
        self.run_context.client.check_endpoint()
        try:
            # A signal while listing (the command's signals are set from
            # its first moment) stops it: nothing is deleted.
            records = prune.select(parsed_args.volume)
        except errors.Interrupted:
            return []
        self._listed = True
        return prune.run(records, wait=parsed_args.wait)

    def _values(self, row):
        record = row.record
        return (record.get('id'), record.get('name'),
                record.get('volume_id'), record.get('created_at'),
                record.get('is_incremental'), row.action, _reason(row),
                row.result, row.request_id)

    def _exit_status(self, rows, parsed_args):
        planned = [r for r in rows if r.action == retention.DELETE]
        kept = sum(r.action == retention.KEEP for r in rows)
        done = sum(not r.failed for r in planned)
        line = '%d of %d backups %s, %d kept' % (
            done, len(planned), 'would be deleted' if parsed_args.dry_run
            else 'deleted', kept)
        skipped = collections.Counter(r.skipped for r in rows
                                      if r.action == retention.SKIP)
        if skipped:
            line += ', %d skipped (%s)' % (sum(skipped.values()), ', '.join(
                '%d %s' % (skipped[why], why) for why in retention.SKIPPED
                if skipped[why]))
        summary = deletion.Summary(
            collections.Counter(Result(r.result) for r in planned),
            self.run_context.stopped)
        if self._listed:
            interrupted = 'Interrupted: %s, %d not attempted.' % (
                line, summary[Result.NOT_ATTEMPTED])
        else:
            interrupted = ('Interrupted while listing the backups: nothing '
                           'was deleted.')
        return self.exit_status(summary, interrupted, line + '.',
                                done=line + '.')


def _reason(row):
    """A row's Reason; a failure's says what to do (vbsclient.osc.hints)."""
    if row.failed and row.outcome is not None:
        return hints.reason(row.outcome)
    return row.reason


def _count(text):
    try:
        return retention_rules.parse_count(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc))


def _duration(text):
    try:
        return retention_rules.parse_duration(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc))

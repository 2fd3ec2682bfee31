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

"""What every vbs command has: one run (vbsclient.api.run) from its
first moment to its last, the network options, one exit-status rule,
one-line errors, and output that is safe on a terminal.
"""

import argparse
import logging
import math

from osc_lib.command import command
from osc_lib import exceptions

# Command modules load only when OSC lists or runs commands, after it has
# imported keystoneauth and requests itself.
from vbsclient.api import client as api_client
from vbsclient.api import errors
from vbsclient.api import limiter
from vbsclient.api import retry
from vbsclient.api import run as runs
from vbsclient.api import text as safe_text
from vbsclient.api import waiter
from vbsclient.osc import hints
from vbsclient.osc import progress
from vbsclient.osc import signals

LOG = logging.getLogger(__name__)


class VbsCommand:
    """A mixin for cliff commands: run_command() works in self.run_context,
    a Run created once for the command, which the signals stop.
    """

    # Formats that show values exactly; the others are read line by line,
    # on a terminal or by a script, and get control characters escaped.
    EXACT_FORMATS = ('json', 'yaml')
    # Whether the command draws a progress line (on a terminal only).
    PROGRESS = False

    def run(self, parsed_args):
        """The command as one run: every request it makes (lists, shows,
        lookups, deletes, waits) goes through one Run, whose stop the
        signals set from the first moment on.
        """
        self.run_context = self._new_run(parsed_args)
        self._signals = signals.SignalStop(self.run_context)
        try:
            with self._signals.installed():
                return self.run_command(parsed_args)
        except errors.Interrupted:
            # A stop met a list, a show or a lookup.
            self.say('Interrupted: nothing more was sent.')
            return self._signals.exit_status
        except errors.VbsError as exc:
            # An error that ends a whole command comes from a list, a show
            # or a lookup, never from a DELETE: --force would not help.
            raise exceptions.CommandError(safe_text.escape(
                hints.with_hint(str(exc), exc)))
        finally:
            self.run_context.progress.close()

    def run_command(self, parsed_args):
        return super().run(parsed_args)

    def _new_run(self, parsed_args):
        """This command's Run, with its settings: the cloud's client is
        copied, so that nothing of this command stays behind for the next
        (OSC's interactive shell runs many on one client).
        """
        client = self.app.client_manager.vbs.configured(
            retries=parsed_args.retries,
            connect_timeout=parsed_args.connect_timeout,
            read_timeout=parsed_args.read_timeout)
        # A run that deletes has --parallel: fixed, else adapted to the
        # server; a list or a show leaves it to the pipeline's bound.
        deletes = hasattr(parsed_args, 'parallel')
        return runs.Run(
            client, parallel=getattr(parsed_args, 'parallel', None),
            adaptive=deletes,
            timeout=getattr(parsed_args, 'timeout', runs.DEFAULT_TIMEOUT),
            interval=getattr(parsed_args, 'wait_interval', waiter.INTERVAL),
            progress=progress.Progress() if self.PROGRESS else None)

    # -- options --------------------------------------------------------------

    def add_run_options(self, parser, dry_run, timeout):
        """The options of a run that deletes (delete, prune), declared
        once: dry_run and timeout are their help.
        """
        parser.add_argument('--dry-run', action='store_true', help=dry_run)
        parser.add_argument(
            '--wait', action='store_true',
            help='Wait until every deleted backup is gone')
        parser.add_argument(
            '--wait-interval', metavar='<seconds>', type=positive(float),
            default=waiter.INTERVAL,
            help='Seconds between the rounds of a wait: each round reads '
                 'the backups still pending from the fewest requests (list '
                 'pages where they cost less than a GET each) (default: '
                 '%g)' % waiter.INTERVAL)
        parser.add_argument(
            '--timeout', metavar='<seconds>', type=positive(float),
            default=runs.DEFAULT_TIMEOUT,
            help='%s (default: %d)' % (timeout, runs.DEFAULT_TIMEOUT))
        parser.add_argument(
            '--parallel', metavar='<n>', type=positive(int),
            help='Requests in flight at once, fixed; 1 is strictly '
                 'sequential (default: adapted to the server, between 1 '
                 'and %d: the fewest that give the best rate of answers '
                 'measured, fewer when the server throttles; --debug '
                 'shows each change)' % limiter.DEFAULT_MAX)
        return self.add_network_options(parser)

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
            '--connect-timeout', metavar='<seconds>', type=positive(float),
            help='Seconds to wait for a connection (default: %g)'
                 % api_client.DEFAULT_CONNECT_TIMEOUT)
        group.add_argument(
            '--read-timeout', metavar='<seconds>', type=positive(float),
            help='Seconds to wait for a whole answer once connected '
                 '(default: clouds.yaml\'s api_timeout, else %g). Each '
                 'backup gets %d times connect and read timeout in all, '
                 'retries included'
                 % (api_client.DEFAULT_READ_TIMEOUT,
                    api_client.BUDGET_IN_ATTEMPTS))
        return parser

    # -- output ---------------------------------------------------------------

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

    def exit_status(self, summary, interrupted, failed, done=None):
        """The one rule of a run's exit status, from its Summary: after a
        signal, 128 + its number (the `interrupted` line said); 1 when any
        backup failed or was never sent (`failed`, the command's error);
        else 0 (the `done` line said, as a warning, if given).
        """
        if summary.interrupted:
            self.say(interrupted)
            return self._signals.exit_status
        if summary.failures:
            raise exceptions.CommandError(failed)
        if done:
            LOG.warning('%s', done)
        return 0

    def say(self, line):
        """An error line on stderr, never after a progress line."""
        self.run_context.progress.clear()
        LOG.error('%s', line)

    def produce_output(self, parsed_args, column_names, data):
        if parsed_args.formatter not in self.EXACT_FORMATS:
            if isinstance(self, command.Lister):
                data = (_escaped(row) for row in data)
            else:
                data = _escaped(data)
        return super().produce_output(parsed_args, column_names, data)


def _escaped(values):
    """Values for a line format: control characters escaped, and an empty
    field (None) empty rather than "None".
    """
    return tuple('' if v is None
                 else safe_text.escape(v) if isinstance(v, str) else v
                 for v in values)


def not_blank(text):
    """An argparse type: a name or ID, never empty (an unset shell
    variable must not widen a filter to everything).
    """
    if not text.strip():
        raise argparse.ArgumentTypeError('must not be empty or blank')
    return text


_NOUNS = {int: 'an integer', float: 'a number'}
_POSITIVE = {int: 'a positive integer', float: 'a positive number'}


def positive(kind):
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

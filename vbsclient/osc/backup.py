"""openstack vbs backup ... commands."""

import logging

from osc_lib.command import command
from osc_lib import exceptions

LOG = logging.getLogger(__name__)


class DeleteBackup(command.Command):
    """Delete VBS backup(s).

    Each argument is a backup ID (one DELETE request, no lookup) or a
    backup name (looked up first; it must match exactly one backup).
    """

    def get_parser(self, prog_name):
        from vbsclient.api import deletion

        parser = super().get_parser(prog_name)
        parser.add_argument(
            'backups', metavar='<backup>', nargs='+',
            help='Backup(s) to delete (name or ID)')
        parser.add_argument(
            '--force', action='store_true',
            help='Delete the backup(s) whatever their status, through the '
                 'os-force_delete action (admin only by default)')
        parser.add_argument(
            '--wait', action='store_true',
            help='Wait until every deleted backup is gone')
        parser.add_argument(
            '--timeout', metavar='<seconds>', type=_positive_number,
            default=deletion.DEFAULT_TIMEOUT,
            help='With --wait, how long to wait in all (default: %d)'
                 % deletion.DEFAULT_TIMEOUT)
        return parser

    def take_action(self, parsed_args):
        from vbsclient.api import deletion
        from vbsclient.api import errors

        try:
            deletion.check_arguments(parsed_args.backups)
        except errors.InvalidBackupId as exc:
            raise exceptions.CommandError(str(exc))
        outcomes = deletion.delete_backups(
            self.app.client_manager.vbs, parsed_args.backups,
            force=parsed_args.force, wait=parsed_args.wait,
            timeout=parsed_args.timeout)
        failures = [o for o in outcomes if o.failed]
        for outcome in failures:
            LOG.error("Failed to delete backup '%s': %s",
                      outcome.argument, outcome.reason)
        if failures:
            raise exceptions.CommandError(
                '%d of %d backups failed to delete.'
                % (len(failures), len(outcomes)))


def _positive_number(text):
    import argparse

    try:
        value = float(text)
    except ValueError:
        value = 0
    if value <= 0:
        raise argparse.ArgumentTypeError('%r is not a positive number' % text)
    return value

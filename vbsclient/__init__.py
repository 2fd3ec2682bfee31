"""OpenStackClient plugin and API client for VBS (volume backup) backups."""

"""Offen fair web analytics, rebuilt as a single-tenant appliance.

This module only carries the version, read by `offen version`, the
`/versionz` route and the packaging spec.
"""

__version__ = "0.1.0"

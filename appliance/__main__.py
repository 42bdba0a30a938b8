"""`python -m appliance` runs the `offen` command line."""

from appliance.cli import main

raise SystemExit(main())

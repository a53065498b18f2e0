from vpnswitch.cli import main

raise SystemExit(main())

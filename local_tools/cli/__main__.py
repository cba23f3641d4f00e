import sys

from local_tools.cli.main import main

sys.exit(main())

import sys

from local_tools.emulator import main

sys.exit(main())

import sys

from ecr_emulator.server.cli import main

sys.exit(main())

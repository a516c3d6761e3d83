import sys

from catnet.cli import main

sys.exit(main())

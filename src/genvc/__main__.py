import sys

from genvc.cli import main

sys.exit(main())

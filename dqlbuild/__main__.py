import sys

from dqlbuild.cli import main

sys.exit(main())

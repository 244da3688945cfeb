import sys

from dqlbuild.cli import main

# Guarded: the language server's worker process imports this module again (spawn).
if __name__ == "__main__":
    sys.exit(main())

import sys

from harness.designs.files import main

raise SystemExit(main(sys.argv[1:]))

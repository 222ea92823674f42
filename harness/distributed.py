"""`python -m harness.distributed master|worker ...`: the command README gives for a load
machine, typed on other hosts and used by bench itself, so its module path stays put while
the code lives with the rest of the run stage (harness.run.distributed)."""
import sys

from harness.run.distributed import main  # gevent's monkey-patching comes first, in there

if __name__ == "__main__":
    main(sys.argv[1:])

"""`python -m config.serve.wsgi [APP] [granian options]`: granian's WSGI interface (HTTP only), with the options in
config/serve/__init__.py. APP defaults to `config.wsgi:application`."""
import sys

from granian.cli import cli

from config.serve import granian_arguments

if __name__ == "__main__":
    cli.main(args=granian_arguments(sys.argv[1:]), prog_name="python -m config.serve.wsgi", auto_envvar_prefix="GRANIAN")

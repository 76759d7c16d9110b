"""`python -m config.serve [APP] [uvicorn options]`: uvicorn, ASGI (HTTP and WebSockets), with the options in
config/serve/__init__.py. APP defaults to `config.asgi:application`."""
import sys

from uvicorn.main import main as uvicorn_main

from config.serve import uvicorn_arguments

if __name__ == "__main__":
    uvicorn_main.main(args=uvicorn_arguments(sys.argv[1:]), prog_name="python -m config.serve")

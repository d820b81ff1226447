"""minicloud: a real OpenStack on 127.0.0.1 for backup-flows tests and demo.

The command is ``tools/minicloud/minicloud`` (see ``cli``); the modules:

paths       where things live (Settings) and the fixed names and ports
cli         argument parsing and the commands
start       ``start``: the phases of a start, adding components
services    the service table: command, environment, port, waits
render      configuration files from ``templates/``
procs       spawning, stopping and measuring service processes
state       the state file (PIDs, passwords, components)
databases   PostgreSQL, MariaDB, RabbitMQ vhost, cached empty schemas
bootstrap   data directories, Keystone keys and bootstrap, Swift rings
readiness   waits until services answer and report up
resources   identity, catalog, flavors, images, network, clouds.yaml
venv        Debian packages, local servers, the cloud's virtualenv
components  optional pieces started with ``start --with NAME``

See doc/source/contributor/minicloud.rst.
"""

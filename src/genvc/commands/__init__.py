"""One module per `genvc` subcommand, each with `register(subparsers)` setting `run=` on its parser."""

"""One module per `catnet` subcommand: argument parsing, printing, files. The computing lives elsewhere."""

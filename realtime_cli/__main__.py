from realtime_cli.cli import main

main()

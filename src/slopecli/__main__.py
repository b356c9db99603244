from slopecli.cli import main

main()

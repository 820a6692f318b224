from spacesmith.agent.cli.main import run

run()

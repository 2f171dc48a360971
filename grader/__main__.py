"""python -m grader  ->  the grade command."""

from grader.cli import main

main()

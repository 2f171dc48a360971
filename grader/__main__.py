"""python -m grader  ->  the grade command."""

from grader.cli import main

if __name__ == "__main__":  # a spawned grading process imports this module again; it must not run
    main()

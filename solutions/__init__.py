"""Reference solutions and exercise specs. Hidden from students: never shipped in a release."""

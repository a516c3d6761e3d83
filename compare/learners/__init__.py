"""A learner's own course-style file (or notebook), checked function by function against the twin.

The pieces, in the order a file goes through them:
source.py and keep.py read a .py or .ipynb into the statements worth running;
runner.py runs them in a child process (child.py, loader.py, calls.py) that
hands back arrays only (codec.py); plan.py holds the inputs and the expected
values, judge.py turns what came back into verdicts, mistakes.py names the
known mistake that reproduces a difference, conventions.py says which course
release it follows; classroom.py does all that for many files at once and
report.py lays the results out.
"""

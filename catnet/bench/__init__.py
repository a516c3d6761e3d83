"""`catnet bench`: the course's textbook loop, a plain PyTorch loop and catnet's loops, timed side by side.

entries.py runs one entry in its own process; run.py drives them and computes
the ratios; plot.py draws the bar chart; plain_torch.py is the plain
nn.Sequential + torch.optim.SGD baseline. The textbook baseline is
catnet/textbook.py, which `catnet compare --against` also uses.
"""

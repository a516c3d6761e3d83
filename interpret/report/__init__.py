"""`catnet report`'s sections: each a function that computes one piece of evidence and returns its numbers and pictures.

They take a trained model and the data and return typed results (with
`Picture`s and matplotlib Figures), so a notebook can call any one of them;
catnet/page.py only lays them out as HTML.
"""

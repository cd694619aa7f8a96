"""The core component library of Edgewise, one family per module.

Each module imports its heavy libraries (pandas, scikit-learn) inside the components, so
listing components stays fast and a flow pays only for the families it uses.
"""

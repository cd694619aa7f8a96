"""The Edgewise browser editor (NiceGUI). It talks to the runtime only through ``runtime``."""

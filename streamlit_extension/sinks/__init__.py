"""Where records go after the patcher: the JSON file and the console."""

def double(values):
    return [v * 2 for v in values]

print("ember: not yet")

print("ember-archiver: not yet")

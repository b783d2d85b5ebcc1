"""Built-in Wangge modules: one package per module, loaded like any third-party plugin."""

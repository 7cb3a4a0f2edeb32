# Editor plugins: each editor's fragment adds its own set-up steps as prerequisites of `editors`.
editors:

-include editors/vscode/vscode.mk
-include editors/nvim/nvim.mk
-include editors/emacs/emacs.mk

;;; gemini-lsp.el --- Gemini writes code, via Eglot  -*- lexical-binding: t; -*-

;; Version: 0.1.0
;; Package-Requires: ((emacs "28.1") (eglot "1.9"))
;; Keywords: tools, languages, convenience

;;; Commentary:

;; A thin client for the gemini-lsp language server.  Eglot runs the
;; server; this package adds what Eglot lacks for streaming generations:
;;
;; - it registers `gemini-lsp' in `eglot-server-programs' for the modes in
;;   `gemini-lsp-major-modes', as a server class of its own, so that what
;;   follows applies to this server only;
;; - the server's streaming edits are applied without a confirmation prompt
;;   and without an echo-area message per edit;
;; - generations run asynchronously (Eglot's `eglot-execute-command' waits
;;   for the answer: Emacs would be frozen until the generation ends), show
;;   their progress in the mode line, and C-g cancels them while they stream;
;; - a code action that needs an instruction (its argument carries a
;;   `promptRequest') asks for it in the minibuffer.
;;
;; Commands: `gemini-lsp-generate', `gemini-lsp-rewrite-region',
;; `gemini-lsp-cancel', `gemini-lsp-revert', `gemini-lsp-refine'.
;; See README.md next to this file.

;;; Code:

(require 'cl-lib)
(require 'eglot)
(require 'jsonrpc)

(defgroup gemini-lsp nil
  "Code written by Google Gemini, streamed in by the gemini-lsp server."
  :group 'tools
  :prefix "gemini-lsp-")

(defcustom gemini-lsp-server-command '("gemini-lsp")
  "The command that starts the language server, as a list of strings.
For example (\"gemini-lsp\" \"--log-file\" \"/tmp/gemini-lsp.log\")."
  :type '(repeat string))

(defcustom gemini-lsp-major-modes
  '(python-mode
    (js-mode :language-id "javascript")
    (typescript-mode :language-id "typescript")
    (c-mode :language-id "c")
    (c++-mode :language-id "cpp")
    java-mode go-mode rust-mode ruby-mode lua-mode
    (sh-mode :language-id "shellscript")
    sql-mode)
  "Major modes in which Eglot runs gemini-lsp.
An element is a mode, or (MODE :language-id ID) when the language id
is not the mode's name without \"-mode\".  Eglot runs one server per
buffer: in these modes gemini-lsp takes the place of any other
language server.  Set this before the package is loaded, or call
`gemini-lsp-register' after changing it."
  :type '(repeat (choice symbol (list symbol (const :language-id) string))))

(defcustom gemini-lsp-settings nil
  "Server settings, a plist sent as the `geminiLsp' initialization options.
For example (:model \"gemini-2.5-pro\" :onCancel \"discard\").  The
README of gemini-lsp lists them all."
  :type 'plist)

(defcustom gemini-lsp-answer-functions nil
  "Functions called with COMMAND, BUFFER, RESULT, ERROR on each answer.
COMMAND is the server command (\"gemini.generate\" ...) this package
sent for BUFFER; a generating command answers when its generation
ends.  RESULT is the answer (for a generation a plist :id, :status,
:range, :text ...) or nil, ERROR the JSON-RPC error (a plist :code,
:message, or a string) or nil."
  :type 'hook)

(defconst gemini-lsp--generating-commands
  '("gemini.generate" "gemini.edit" "gemini.refine")
  "The server commands that stream a generation and answer when it ends.")

(defconst gemini-lsp--server-commands
  '("gemini.generate" "gemini.edit" "gemini.cancel" "gemini.revert"
    "gemini.refine")
  "Every command of the server, as `workspace/executeCommand' names it.")

(defclass gemini-lsp-server (eglot-lsp-server) ()
  :documentation "gemini-lsp, as a class Eglot's methods can single out.")

;;;; Starting the server

(defun gemini-lsp--contact (_interactive)
  "The `eglot-server-programs' contact: the server's class and command."
  (cons 'gemini-lsp-server gemini-lsp-server-command))

(defun gemini-lsp--registered-p (entry)
  "Whether ENTRY of `eglot-server-programs' is the one this package adds."
  (eq (cdr entry) #'gemini-lsp--contact))

;;;###autoload
(defun gemini-lsp-register ()
  "Make Eglot run gemini-lsp in the modes of `gemini-lsp-major-modes'.
The entry goes first in `eglot-server-programs', replacing an older one."
  (interactive)
  (setq eglot-server-programs
        (cl-remove-if #'gemini-lsp--registered-p eglot-server-programs))
  (when gemini-lsp-major-modes
    (push (cons gemini-lsp-major-modes #'gemini-lsp--contact)
          eglot-server-programs)))

(cl-defmethod eglot-initialization-options ((_server gemini-lsp-server))
  "Send `gemini-lsp-settings' to the server as its `geminiLsp' settings."
  (list :geminiLsp (or gemini-lsp-settings eglot--{})))

;;;; Streaming edits

(cl-defmethod eglot-handle-request
  ((_server gemini-lsp-server) (_method (eql workspace/applyEdit)) &rest _)
  "Apply a streaming edit with no confirmation prompt and no message.
Everything else is Eglot's own handling, such as refusing an edit
made for an older version of the buffer."
  (let ((eglot-confirm-server-initiated-edits nil)
        (inhibit-message t)
        (message-log-max nil))
    (cl-call-next-method)))

;;;; Generations in flight

(defvar gemini-lsp--token-counter 0
  "Makes each generation's progress token unique.")

(defvar gemini-lsp--tokens (make-hash-table :test #'equal)
  "Progress token -> the buffer its generation writes into.")

(defvar-local gemini-lsp--running nil
  "The generations streaming into this buffer, newest first.
Each is (TOKEN . STATUS), STATUS its latest progress message or nil.")

(defvar-local gemini-lsp--last-id nil
  "The id of the latest generation that ended in this buffer.
That is the one `gemini-lsp-refine' continues.")

(defun gemini-lsp--mode-line ()
  "The mode-line text while generations stream: the newest one's progress."
  (let ((status (cdar gemini-lsp--running))
        (more (length (cdr gemini-lsp--running))))
    (concat " Gemini" (if status (concat ": " status) "…")
            (if (> more 0) (format " (+%d)" more) ""))))

(defvar gemini-lsp-streaming-mode-map
  (let ((map (make-sparse-keymap)))
    (define-key map (kbd "C-g") #'gemini-lsp-cancel)
    map)
  "Keys active while a generation streams into the buffer.")

(define-minor-mode gemini-lsp-streaming-mode
  "Shown while Gemini streams into the buffer; C-g cancels it.
The mode turns itself on and off with the generations; there is no
need to toggle it by hand."
  :lighter (:eval (gemini-lsp--mode-line))
  :keymap gemini-lsp-streaming-mode-map)

(defun gemini-lsp--started (buffer token)
  "Note that the generation with progress TOKEN streams into BUFFER."
  (puthash token buffer gemini-lsp--tokens)
  (with-current-buffer buffer
    (push (cons token nil) gemini-lsp--running)
    (gemini-lsp-streaming-mode 1)))

(defun gemini-lsp--ended (buffer token)
  "Forget the generation with progress TOKEN in BUFFER."
  (remhash token gemini-lsp--tokens)
  (when (buffer-live-p buffer)
    (with-current-buffer buffer
      (setq gemini-lsp--running (assoc-delete-all token gemini-lsp--running))
      (unless gemini-lsp--running
        (gemini-lsp-streaming-mode -1))
      (force-mode-line-update))))

(cl-defmethod eglot-handle-notification
  ((_server gemini-lsp-server) (_method (eql $/progress)) &key token value)
  "Show the progress (VALUE) of generation TOKEN in the mode line.
Eglot 1.9 only logs `$/progress'."
  (let ((buffer (gethash token gemini-lsp--tokens))
        (status (plist-get value :message)))
    (when (and (buffer-live-p buffer) status)
      (with-current-buffer buffer
        (let ((entry (assoc token gemini-lsp--running)))
          (when entry
            (setcdr entry status)
            (force-mode-line-update)))))))

;;;; Running commands

(defun gemini-lsp--server ()
  "The gemini-lsp server of the current buffer, or an error saying why not."
  (let ((server (eglot-current-server)))
    (unless (cl-typep server 'gemini-lsp-server)
      (user-error "No gemini-lsp server here (M-x eglot starts it)"))
    server))

(defun gemini-lsp--buffer-of (argument)
  "The buffer ARGUMENT's textDocument names, else the current buffer."
  (let* ((uri (plist-get (plist-get argument :textDocument) :uri))
         (path (and uri (eglot--uri-to-path uri))))
    (or (and path (find-buffer-visiting path)) (current-buffer))))

(defun gemini-lsp--send (server command argument &optional on-answer)
  "Send COMMAND with ARGUMENT to SERVER, without waiting for the answer.
ON-ANSWER, if given, is called with the result and the error.  A
generating command shows its progress and may take as long as it
takes; the others should answer within seconds.  Returns the
generation's progress token, or nil."
  (let* ((generating (member command gemini-lsp--generating-commands))
         (buffer (gemini-lsp--buffer-of argument))
         (token (and generating
                     (format "gemini-lsp-el-%d"
                             (cl-incf gemini-lsp--token-counter))))
         (params `(:command ,command :arguments ,(vector argument)
                            ,@(and token (list :workDoneToken token))))
         (done
          (lambda (result error)
            (when token
              (gemini-lsp--ended buffer token)
              (when (and (buffer-live-p buffer) (plist-get result :id))
                (with-current-buffer buffer
                  (setq gemini-lsp--last-id (plist-get result :id)))))
            (when error
              (message "Gemini: %s" (if (stringp error) error
                                      (plist-get error :message))))
            (when on-answer (funcall on-answer result error))
            (run-hook-with-args 'gemini-lsp-answer-functions
                                command buffer result error))))
    ;; Positions are computed from the buffer as it is now: the server must
    ;; see that version before the command, not after Eglot's idle delay.
    (when (buffer-live-p buffer)
      (with-current-buffer buffer
        (when eglot--managed-mode
          (eglot--signal-textDocument/didChange))))
    (when token
      (gemini-lsp--started buffer token))
    (jsonrpc-async-request
     server :workspace/executeCommand params
     :success-fn (lambda (result) (funcall done result nil))
     :error-fn (lambda (error) (funcall done nil error))
     :timeout-fn (lambda () (funcall done nil "no answer from gemini-lsp"))
     ;; A generation has its own time limits on the server.
     :timeout (if generating nil 30))
    token))

(defvar gemini-lsp-prompt-history nil
  "Instructions given to Gemini, for the minibuffer's history.")

(defun gemini-lsp--read-prompt (question)
  "Read an instruction for Gemini, asking QUESTION; refuse an empty one."
  (let ((prompt (string-trim (read-from-minibuffer
                              (concat question " ") nil nil nil
                              'gemini-lsp-prompt-history))))
    (when (string-empty-p prompt)
      (user-error "Gemini: no instruction given"))
    prompt))

(defun gemini-lsp--announcer (what)
  "An ON-ANSWER function that says in the echo area how WHAT ended."
  (lambda (result error)
    (unless error
      (let ((total (plist-get (plist-get result :timings) :totalMs)))
        (message "Gemini: %s %s%s" what (plist-get result :status)
                 (if total (format " in %.1f s" (/ total 1000.0)) ""))))))

;;;###autoload
(defun gemini-lsp-generate (prompt)
  "Ask Gemini to write code at point, following PROMPT.
Interactively, read PROMPT in the minibuffer.  The code streams into
the buffer while you go on working; the mode line shows its progress,
C-g cancels it and \\[gemini-lsp-revert] removes it again."
  (interactive (list (gemini-lsp--read-prompt "Gemini, write here:")))
  (gemini-lsp--send (gemini-lsp--server) "gemini.generate"
                    (list :textDocument (eglot--TextDocumentIdentifier)
                          :position (eglot--pos-to-lsp-position (point))
                          :prompt prompt)
                    (gemini-lsp--announcer "generation")))

;;;###autoload
(defun gemini-lsp-rewrite-region (beg end prompt)
  "Ask Gemini to rewrite the text between BEG and END, following PROMPT.
Interactively, the region, and PROMPT read in the minibuffer.  The
original stays until the new text is complete, which then replaces it
in one edit; a cancel or a failure leaves it untouched."
  (interactive
   (if (use-region-p)
       (list (region-beginning) (region-end)
             (gemini-lsp--read-prompt "Gemini, rewrite the region:"))
     (user-error "Select the code to rewrite first")))
  (gemini-lsp--send (gemini-lsp--server) "gemini.edit"
                    (list :textDocument (eglot--TextDocumentIdentifier)
                          :range (list :start (eglot--pos-to-lsp-position beg)
                                       :end (eglot--pos-to-lsp-position end))
                          :prompt prompt)
                    (gemini-lsp--announcer "rewrite")))

;;;###autoload
(defun gemini-lsp-refine (prompt)
  "Ask Gemini to revise the buffer's latest generation, following PROMPT.
The conversation with Gemini goes on where it stopped, and the revised
code replaces the generated text.  Interactively, read PROMPT in the
minibuffer."
  (interactive (list (gemini-lsp--read-prompt "Gemini, revise it:")))
  (unless gemini-lsp--last-id
    (user-error "No Gemini generation to refine in this buffer"))
  (gemini-lsp--send (gemini-lsp--server) "gemini.refine"
                    (list :id gemini-lsp--last-id :prompt prompt)
                    (gemini-lsp--announcer "refinement")))

;;;###autoload
(defun gemini-lsp-cancel ()
  "Stop the generations streaming into this buffer.
The stream from Gemini is closed at once; what was written so far
stays, unless the server's `onCancel' setting is \"discard\".  While a
generation streams, C-g runs this command."
  (interactive)
  (gemini-lsp--send (gemini-lsp--server) "gemini.cancel"
                    (list :textDocument (eglot--TextDocumentIdentifier))
                    (lambda (result error)
                      (unless error
                        (message "Gemini: %d cancelled"
                                 (length (plist-get result :cancelled)))))))

;;;###autoload
(defun gemini-lsp-revert ()
  "Remove the text of the buffer's latest Gemini generation, in one edit.
What you typed inside or beside it while it streamed stays."
  (interactive)
  (gemini-lsp--send (gemini-lsp--server) "gemini.revert"
                    (list :textDocument (eglot--TextDocumentIdentifier))
                    (lambda (_result error)
                      (unless error (message "Gemini: generation reverted")))))

;;;; Code actions

(cl-defmethod eglot-execute-command ((server gemini-lsp-server) command args)
  "Run the server's COMMAND with ARGS without blocking Emacs.
A code action that needs an instruction carries `promptRequest', the
question to ask: the answer becomes its `prompt'.  Commands other than
gemini.* go to Eglot's own method."
  (let ((name (format "%s" command)))
    (if (not (member name gemini-lsp--server-commands))
        (cl-call-next-method)
      (let ((argument (copy-sequence (and (> (length args) 0) (elt args 0))))
            (question nil))
        (setq question (plist-get argument :promptRequest))
        (when (and question (not (plist-get argument :prompt)))
          (setq argument
                (plist-put argument :prompt (gemini-lsp--read-prompt question)))
          ;; The server refuses arguments it does not know.
          (cl-remf argument :promptRequest))
        (gemini-lsp--send server name argument (gemini-lsp--announcer name))))))

;;;; Keys

(defvar gemini-lsp-command-map
  (let ((map (make-sparse-keymap)))
    (define-key map (kbd "g") #'gemini-lsp-generate)
    (define-key map (kbd "r") #'gemini-lsp-rewrite-region)
    (define-key map (kbd "c") #'gemini-lsp-cancel)
    (define-key map (kbd "u") #'gemini-lsp-revert)
    (define-key map (kbd "f") #'gemini-lsp-refine)
    (define-key map (kbd "a") #'eglot-code-actions)
    map)
  "The gemini-lsp commands, to bind under a prefix key such as C-c g.")
(fset 'gemini-lsp-command-map gemini-lsp-command-map)

(gemini-lsp-register)

(provide 'gemini-lsp)
;;; gemini-lsp.el ends here

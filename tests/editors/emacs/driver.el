;;; driver.el --- Drives Emacs + Eglot against gemini-lsp for the tests  -*- lexical-binding: t; -*-

;;; Commentary:

;; Run as `emacs --batch -Q -l driver.el' with GEMINI_TEST_PARAMS naming a JSON file:
;;   file      the file to visit (its folder has a .git, so project.el finds a root)
;;   out       where to write the results (JSON)
;;   server    the server's command line
;;   package   the folder of gemini-lsp.el, or null for plain Eglot
;;   settings  the server's geminiLsp settings
;;   scenario  the name of a `gt-scenario-...' function below, and its own fields.
;; The results: the buffer's text, the answers with their times, what the mode line and
;; C-g showed while a generation streamed, the didChange notifications sent, and `error'
;; when a step failed (every wait has a deadline of a few seconds).
;;
;; Batch Emacs is never idle, so Eglot's idle timer never sends `didChange'.  This driver
;; does what an interactive Emacs does: it sends the pending changes once no (simulated)
;; keystroke came for `eglot-send-changes-idle-time' -- and never while a blocking
;; `jsonrpc-request' waits, since Emacs is not idle then.  Server edits are not input:
;; they do not delay the sync, exactly as in an interactive Emacs.

;;; Code:

(require 'cl-lib)
(require 'json)
(require 'package)
;; `-Q' skips Debian's start-up files, which activate the elpa-* packages.
(add-to-list 'package-directory-list "/usr/share/emacs/site-lisp/elpa")
(package-activate-all)
(require 'eglot)

;; From gemini-lsp.el, loaded only when the test asks for the package.
(defvar gemini-lsp-server-command)
(defvar gemini-lsp-settings)
(declare-function gemini-lsp-generate "gemini-lsp" (prompt))
(declare-function gemini-lsp-revert "gemini-lsp" ())
(declare-function gemini-lsp-refine "gemini-lsp" (prompt))
(declare-function gemini-lsp-rewrite-region "gemini-lsp" (beg end prompt))

(defvar gt-params (with-temp-buffer
                    (insert-file-contents (getenv "GEMINI_TEST_PARAMS"))
                    (json-parse-buffer :object-type 'plist :null-object nil
                                       :false-object nil)))

(defun gt-param (key) "The test's parameter KEY." (plist-get gt-params key))

(defvar gt-start (float-time) "When the driver started; times are relative to it.")
(defun gt-now () "Milliseconds since the driver started." (* 1000 (- (float-time) gt-start)))

(defvar gt-results nil "The results so far, a plist.")
(defun gt-record (key value)
  "Set KEY of the results to VALUE."
  (setq gt-results (plist-put gt-results key value)))

(defun gt-push (key value)
  "Append VALUE to the list KEY of the results."
  (gt-record key (append (plist-get gt-results key) (list value))))

;;;; Simulated idleness

(defvar gt--blocking nil "Non-nil while a blocking request waits: Emacs is not idle.")
(defvar gt--last-input (float-time) "When the last simulated keystroke or command came.")

(defun gt-input ()
  "Note a keystroke or a command: Emacs is not idle now."
  (setq gt--last-input (float-time)))

(advice-add 'jsonrpc-request :around
            (lambda (request &rest args)
              (unwind-protect (let ((gt--blocking t)) (apply request args))
                ;; The command ends here; Emacs becomes idle from now on.
                (gt-input))))

(defun gt--idle-sync ()
  "Send the pending changes as Eglot's idle timer would in an interactive Emacs."
  (when (and (not gt--blocking)
             (>= (- (float-time) gt--last-input) eglot-send-changes-idle-time))
    (dolist (buffer (buffer-list))
      (with-current-buffer buffer
        (when (and (bound-and-true-p eglot--managed-mode) eglot--recent-changes)
          (gt-push :syncs (list :at (gt-now) :changes (length eglot--recent-changes)))
          (eglot--signal-textDocument/didChange))))))

(run-with-timer 0.02 0.02 #'gt--idle-sync)

;;;; Waiting

(defvar gt--watch nil "A function run at each step of a wait, to sample the editor's state.")

(defun gt-wait (what predicate &optional timeout)
  "Pump events until PREDICATE is non-nil (and return it), or fail after TIMEOUT s."
  (let ((deadline (+ (float-time) (or timeout 5)))
        value)
    (while (not (setq value (funcall predicate)))
      (when (> (float-time) deadline)
        (error "Timed out after %s s waiting for %s" (or timeout 5) what))
      (accept-process-output nil 0.01)
      (when gt--watch (funcall gt--watch)))
    value))

(defun gt-pause (seconds)
  "Pump events for SECONDS."
  (let ((until (+ (float-time) seconds)))
    (gt-wait "a pause" (lambda () (>= (float-time) until)) (+ seconds 1))))

(defun gt-settle ()
  "Wait until the buffer has been synced and nothing changed it for 0.7 s.
That is longer than Eglot's idle delay: a repair that follows a sync shows."
  (let ((tick (buffer-modified-tick)) (since (float-time)))
    (gt-wait "the buffer to settle"
             (lambda ()
               (unless (= tick (buffer-modified-tick))
                 (setq tick (buffer-modified-tick) since (float-time)))
               (and (null eglot--recent-changes) (> (- (float-time) since) 0.7)))
             8)))

;;;; The user

(defvar gt--answers nil "What the simulated user answers in the minibuffer, in order.")

(advice-add 'read-from-minibuffer :override
            (lambda (prompt &rest _)
              (unless gt--answers (error "Unexpected question in the minibuffer: %s" prompt))
              (gt-push :questions prompt)
              (gt-input)
              (pop gt--answers)))

(defun gt-type (where text &optional every)
  "Type TEXT at WHERE (a position or marker), one character each EVERY seconds."
  (let ((at (copy-marker where t)))
    (dolist (char (string-to-list text))
      (gt-input)
      (save-excursion (goto-char at) (insert char))
      (gt-pause (or every 0.03)))
    (gt-push :typed (list :text text :at (gt-now)))))

(defun gt-type-inside ()
  "Type the test's `inside' text just after its `inside_after' text.
That is once the generation has gone past it, to `inside_when': strictly inside."
  (let ((found (lambda (text)
                 (goto-char (point-min))
                 (search-forward text nil t))))
    (gt-wait "the text to type after"
             (lambda () (and (funcall found (gt-param :inside_when))
                             (funcall found (gt-param :inside_after)))))
    (gt-type (point) (gt-param :inside))))

(defun gt-goto (line character)
  "Move point to LINE and CHARACTER, both counted from 0 (LSP-style, ASCII text)."
  (goto-char (point-min))
  (forward-line line)
  (forward-char character))

;;;; Answers

(defun gt-answered (command)
  "The answers recorded so far to COMMAND."
  (cl-remove-if-not (lambda (a) (equal (plist-get a :command) command))
                    (plist-get gt-results :answers)))

(defun gt-wait-answer (command &optional count timeout)
  "Wait for the COUNT-th answer to COMMAND (default 1) and return it."
  (let ((count (or count 1)))
    (gt-wait (format "answer %d to %s" count command)
             (lambda () (nth (1- count) (gt-answered command)))
             timeout)))

(defun gt--on-answer (command _buffer result error)
  "Record an answer of the gemini-lsp package (COMMAND, RESULT, ERROR)."
  (gt-push :answers (list :command command :result result :error error :at (gt-now))))

(defun gt-lighters ()
  "The minor modes' part of the mode line.
`format-mode-line' gives \"\" in batch mode, so the lighters are evaluated here:
a string, or (:eval FORM), for each mode that is on."
  (mapconcat (lambda (entry)
               (let ((lighter (cadr entry)))
                 (cond ((not (and (boundp (car entry)) (symbol-value (car entry)))) "")
                       ((stringp lighter) lighter)
                       ((eq (car-safe lighter) :eval) (format "%s" (eval (cadr lighter) t)))
                       (t ""))))
             minor-mode-alist ""))

(defun gt-watch-streaming ()
  "Sample what the user sees while a generation streams: mode line and C-g."
  (let ((mode-line (gt-lighters))
        (binding (format "%s" (key-binding (kbd "C-g")))))
    (unless (equal mode-line (car (last (plist-get gt-results :mode-line))))
      (gt-push :mode-line mode-line))
    (unless (member binding (plist-get gt-results :c-g))
      (gt-push :c-g binding))))

;;;; Set-up

(defvar gt-buffer nil "The buffer under test.")

(defun gt-start-server ()
  "Visit the file and start Eglot with gemini-lsp on it."
  (setq eglot-sync-connect t eglot-connect-timeout 10 eglot-autoreconnect nil)
  (let ((server (append (gt-param :server) nil))
        (settings (or (gt-param :settings) eglot--{})))
    (if (gt-param :package)
        (progn
          (add-to-list 'load-path (gt-param :package))
          (require 'gemini-lsp)
          (setq gemini-lsp-server-command server gemini-lsp-settings settings)
          (add-hook 'gemini-lsp-answer-functions #'gt--on-answer))
      ;; Plain Eglot, as a user who read the README's Eglot section would set it up.
      (setq eglot-confirm-server-initiated-edits nil)
      (push (cons 'python-mode
                  (append server (list :initializationOptions (list :geminiLsp settings))))
            eglot-server-programs)))
  (setq gt-buffer (find-file-noselect (gt-param :file)))
  (set-buffer gt-buffer)
  (apply #'eglot (eglot--guess-contact))
  (gt-wait "Eglot to manage the buffer"
           (lambda () (and (eglot-current-server) eglot--managed-mode)) 10)
  (gt-input))

(defun gt-finish ()
  "Record the buffer's text."
  (gt-record :text (with-current-buffer gt-buffer
                     (buffer-substring-no-properties (point-min) (point-max)))))

(defun gt--json (value)
  "VALUE as `json-serialize' takes it.
Plists stay objects, other lists become arrays."
  (cond ((and (consp value) (keywordp (car value)))
         (cl-loop for (key item) on value by #'cddr append (list key (gt--json item))))
        ((or (consp value) (vectorp value)) (vconcat (mapcar #'gt--json value)))
        (t value)))

(defun gt-write ()
  "Write the results as JSON."
  (with-temp-file (gt-param :out)
    (insert (json-serialize (gt--json gt-results)
                            :null-object nil :false-object :json-false))))

;;;; Scenarios

(defun gt-generate-async ()
  "Run `gemini-lsp-generate' at the test's line/character with its prompt."
  (with-current-buffer gt-buffer
    (gt-goto (gt-param :line) (gt-param :character))
    (gt-input)
    (gt-record :sent (gt-now))
    (gemini-lsp-generate (gt-param :prompt))))

(defun gt-scenario-blocking ()
  "A generation through `eglot-execute-command', which waits for the answer."
  (with-current-buffer gt-buffer
    (let ((server (eglot-current-server))
          (argument (list :textDocument (eglot--TextDocumentIdentifier)
                          :position (list :line (gt-param :line)
                                          :character (gt-param :character))
                          :prompt (gt-param :prompt)))
          (sent (gt-now)))
      (gt-input)
      (let ((result (with-timeout (5 (error "The blocking command got no answer in 5 s"))
                      (eglot-execute-command server 'gemini.generate (vector argument)))))
        (gt-push :answers (list :command "gemini.generate" :result result
                                :sent sent :at (gt-now))))
      (gt-settle))))

(defun gt-scenario-code-action-blocking ()
  "A code action picked with `eglot-code-actions' and run by plain Eglot.
Eglot runs it with `eglot-execute-command', which blocks."
  (with-current-buffer gt-buffer
    (gt-goto (gt-param :line) (gt-param :character))
    (setq gt--answers (list (gt-param :action)))
    (let ((sent (gt-now)))
      (let ((last-nonmenu-event ?\r))   ; chosen from the keyboard, not a mouse menu
        (with-timeout (5 (error "The code action got no answer in 5 s"))
          (call-interactively #'eglot-code-actions)))
      (gt-push :answers (list :command "code action" :sent sent :at (gt-now))))
    (gt-settle)))

(defun gt-scenario-async ()
  "A generation through the package: Emacs stays free while it streams."
  (let ((gt--watch #'gt-watch-streaming))
    (gt-generate-async)
    (gt-record :returned (gt-now))
    (with-current-buffer gt-buffer
      (gt-wait-answer "gemini.generate")
      (gt-watch-streaming))
    (with-current-buffer gt-buffer (gt-settle))))

(defun gt-scenario-typing ()
  "Type above, inside and below a generation while it streams."
  (gt-generate-async)
  (with-current-buffer gt-buffer
    (gt-wait "the first generated text" (lambda ()
                                          (goto-char (point-min))
                                          (search-forward (gt-param :first) nil t)))
    (gt-type (point-min) (gt-param :above))
    (gt-type-inside)
    (gt-type (point-max) (gt-param :below))
    (gt-record :typing-done (gt-now))
    (when (gt-answered "gemini.generate")
      (error "The generation ended before the typing did: slow the scenario down"))
    (gt-wait-answer "gemini.generate")
    (gt-settle)))

(defun gt-scenario-cancel ()
  "Cancel with C-g while the generation streams."
  (let ((gt--watch #'gt-watch-streaming))
    (gt-generate-async)
    (with-current-buffer gt-buffer
      (gt-wait "some generated text" (lambda ()
                                       (goto-char (point-min))
                                       (search-forward (gt-param :first) nil t)))
      (gt-record :cancel-sent (gt-now))
      (call-interactively (key-binding (kbd "C-g")))
      (gt-wait-answer "gemini.cancel" 1 3)
      (gt-wait-answer "gemini.generate" 1 3)
      (let ((tick (buffer-modified-tick)))
        (gt-settle)
        (gt-record :edited-after-cancel (if (= tick (buffer-modified-tick)) :json-false t))))))

(defun gt-scenario-revert ()
  "Type inside a generation while it streams, then revert it."
  (gt-generate-async)
  (with-current-buffer gt-buffer
    (gt-type-inside)
    (gt-wait-answer "gemini.generate")
    (gt-settle)
    (gt-record :generated-text (buffer-substring-no-properties (point-min) (point-max)))
    (gt-input)
    (gemini-lsp-revert)
    (gt-wait-answer "gemini.revert")
    (gt-settle)))

(defun gt-scenario-refine ()
  "Generate, then refine the generation with a second instruction."
  (gt-generate-async)
  (with-current-buffer gt-buffer
    (gt-wait-answer "gemini.generate")
    (gt-settle)
    (gt-record :generated-text (buffer-substring-no-properties (point-min) (point-max)))
    (gt-input)
    (setq gt--answers (list (gt-param :refine)))
    (call-interactively #'gemini-lsp-refine)
    (gt-wait-answer "gemini.refine")
    (gt-settle)))

(defun gt-scenario-code-action ()
  "Pick the code action that asks for an instruction, as a user would."
  (with-current-buffer gt-buffer
    (gt-goto (gt-param :line) (gt-param :character))
    (setq gt--answers (list (gt-param :action) (gt-param :prompt)))
    (gt-input)
    (let ((last-nonmenu-event ?\r))   ; chosen from the keyboard, not a mouse menu
      (call-interactively #'eglot-code-actions))
    (gt-record :returned (gt-now))
    (gt-wait-answer "gemini.generate")
    (gt-settle)))

(defun gt-scenario-rewrite ()
  "Select lines and rewrite them with `gemini-lsp-rewrite-region'."
  (with-current-buffer gt-buffer
    (transient-mark-mode 1)
    (gt-goto (gt-param :start) 0)
    (push-mark (point) t t)
    (gt-goto (gt-param :end) 0)
    (setq gt--answers (list (gt-param :prompt)))
    (gt-input)
    (call-interactively #'gemini-lsp-rewrite-region)
    (gt-wait-answer "gemini.edit")
    (gt-settle)))

;;;; Main

(let ((ok nil))
  (condition-case err
      (progn
        (gt-start-server)
        (funcall (intern (concat "gt-scenario-" (gt-param :scenario))))
        (setq ok t))
    (error (gt-record :error (error-message-string err))))
  (condition-case err
      (progn
        (when gt-buffer (gt-finish))
        (let ((server (and gt-buffer (with-current-buffer gt-buffer (eglot-current-server)))))
          (unless ok
            (let ((events (and server (get-buffer (format "*EGLOT (%s/%s) events*"
                                                          (eglot-project-nickname server)
                                                          (eglot--major-modes server))))))
              (when events
                (with-current-buffer events
                  (gt-record :events (buffer-substring-no-properties
                                      (max (point-min) (- (point-max) 20000)) (point-max)))))))
          (when server
            (with-timeout (2 nil) (ignore-errors (eglot-shutdown server nil 1))))))
    (error (gt-record :error (format "%s; then %s" (plist-get gt-results :error)
                                     (error-message-string err)))))
  (gt-write)
  (kill-emacs (if ok 0 1)))

;;; driver.el ends here

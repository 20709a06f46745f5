package main

import (
	"fmt"

	"github.com/urfave/cli/v2"
)

// genCommand writes the man page and shell completions the packages ship, from
// the same command definitions the binary uses, so they never drift.
func genCommand() *cli.Command {
	return &cli.Command{
		Name:      "gen",
		Usage:     "print the man page (man) or a shell completion (bash, zsh, fish)",
		ArgsUsage: "man|bash|zsh|fish",
		Action: func(c *cli.Context) error {
			app := newApp()
			var out string
			var err error
			switch c.Args().First() {
			case "man":
				out, err = app.ToManWithSection(1)
			case "fish":
				out, err = app.ToFishCompletion()
			case "bash":
				out = bashCompletion
			case "zsh":
				out = zshCompletion
			default:
				return fmt.Errorf("%w: podunit internal gen man|bash|zsh|fish", errUsage)
			}
			if err != nil {
				return err
			}
			fmt.Fprint(c.App.Writer, out)
			return nil
		},
	}
}

// Both ask podunit itself for the candidates (--generate-bash-completion).
const bashCompletion = `# bash completion for podunit
_podunit() {
  local cur words
  cur="${COMP_WORDS[COMP_CWORD]}"
  words=("${COMP_WORDS[@]:0:COMP_CWORD}")
  if [[ "$cur" == -* ]]; then
    COMPREPLY=($(compgen -W "$("${words[@]}" "$cur" --generate-bash-completion 2>/dev/null)" -- "$cur"))
  else
    COMPREPLY=($(compgen -W "$("${words[@]}" --generate-bash-completion 2>/dev/null)" -- "$cur"))
  fi
  [[ ${#COMPREPLY[@]} -eq 0 ]] && COMPREPLY=($(compgen -f -- "$cur"))
  return 0
}
complete -o filenames -F _podunit podunit
`

const zshCompletion = `#compdef podunit
# zsh completion for podunit
_podunit() {
  local -a candidates
  candidates=("${(@f)$(${words[@]:0:$((CURRENT-1))} --generate-bash-completion 2>/dev/null)}")
  if (( ${#candidates[@]} )) && [[ -n "${candidates[1]}" ]]; then
    _describe 'podunit' candidates
  else
    _files
  fi
}
compdef _podunit podunit
`

"""The release wing: the edit commands `release`, `promote`, `rollback` and `lock` (DESIGN §6, §9).

  edits.py   the use case (pure): the texts of bluegreen.yaml and its lock in, parsed once and
             validated; the new texts and a one-line commit message out, or a refusal

cli/release.py reads the files, holds the edit lock and writes the new texts; cli/importing.py
pins an imported app's first lock through `lock`.
"""

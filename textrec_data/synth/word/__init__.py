"""Word mode, ``textrec synth --words``: synthetic word crops written straight into a manifest
by a :class:`~textrec_data.synth.word.source.SynthWordsSource` through the manifest stage."""

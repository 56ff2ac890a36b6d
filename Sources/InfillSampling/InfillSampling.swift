// InfillSampling: see DESIGN.md.

// placeholder: filled by the data issue

module github.com/modphp-migrate/modphp-migrate

go 1.26.8
